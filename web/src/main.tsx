/**
 * Entry: picks the screen by path and loads only its code. `/go` (opened on the phone) needs no
 * sign-in and loads the small enrollment page; everything else loads the portal.
 */
import { render } from 'preact';

const root = document.getElementById('root');

function showLoadError(target: HTMLElement): void {
  target.innerHTML = '';
  const box = document.createElement('div');
  box.className = 'boot-error';
  box.setAttribute('role', 'alert');
  box.textContent = 'The page could not be loaded. Check your connection, then reload the page.';
  target.append(box);
}

if (root) {
  const path = location.pathname.replace(/\/+$/, '');
  if (path === '/go') {
    import('./go/go-page.tsx').then(
      ({ GoPage }) => render(<GoPage />, root),
      () => showLoadError(root),
    );
  } else {
    import('./portal/app.tsx').then(
      ({ App }) => render(<App />, root),
      () => showLoadError(root),
    );
  }
}

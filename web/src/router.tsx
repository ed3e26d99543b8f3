/**
 * A small History API router: each page has its own URL, Back and reload keep the user's place.
 * Routes are a table of `{ path, load }` entries (`/devices/:deviceId` style patterns), so a page is
 * one entry; each page's code is loaded on demand (see `useLazy`).
 */
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';

type Listener = (path: string) => void;
const listeners = new Set<Listener>();

function currentPath(): string {
  return location.pathname.replace(/\/+$/, '') || '/';
}

function notify(): void {
  const path = currentPath();
  for (const listener of listeners) listener(path);
}

addEventListener('popstate', notify);

/** Goes to a page of the portal (same origin), adding a history entry unless `replace`. */
export function navigate(to: string, { replace = false }: { replace?: boolean } = {}): void {
  const url = new URL(to, location.href);
  if (url.origin !== location.origin) {
    location.assign(url.href);
    return;
  }
  if (url.href === location.href && !replace) return;
  if (replace) history.replaceState(null, '', url.href);
  else history.pushState(null, '', url.href);
  notify();
}

/** The current path (no trailing slash), following navigation and Back/Forward. */
export function usePath(): string {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    listeners.add(setPath);
    // The path may have changed between the first render and this effect.
    setPath(currentPath());
    return () => {
      listeners.delete(setPath);
    };
  }, []);
  return path;
}

export interface RouteMatch<R> {
  route: R;
  params: Record<string, string>;
}

/** The first route whose pattern (`/`, `/help`, `/devices/:deviceId`) matches the path exactly. */
export function matchRoute<R extends { path: string }>(
  routes: readonly R[],
  path: string,
): RouteMatch<R> | null {
  const segments = path.split('/').filter(Boolean);
  for (const route of routes) {
    const pattern = route.path.split('/').filter(Boolean);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const ok = pattern.every((part, i) => {
      const segment = segments[i] ?? '';
      if (part.startsWith(':')) {
        try {
          params[part.slice(1)] = decodeURIComponent(segment);
        } catch {
          return false;
        }
        return true;
      }
      return part === segment;
    });
    if (ok) return { route, params };
  }
  return null;
}

type LinkProps = Omit<JSX.HTMLAttributes<HTMLAnchorElement>, 'href'> & {
  href: string;
  children: ComponentChildren;
};

/** An ordinary link that navigates without reloading; modified clicks (new tab, …) stay the browser's. */
export function Link({ href, onClick, children, ...rest }: LinkProps) {
  return (
    <a
      {...rest}
      href={href}
      onClick={(event) => {
        if (typeof onClick === 'function') onClick(event);
        if (
          event.defaultPrevented ||
          event.button !== 0 ||
          event.metaKey ||
          event.ctrlKey ||
          event.shiftKey ||
          event.altKey
        )
          return;
        event.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}

import { useEffect, useState } from 'preact/hooks';
import { type AuthState, getAuthState, onAuthChange, resumeSession } from '../auth.ts';
import { captureDerivedCredentialReturn } from './derived-credential-return.ts';
import { Portal } from './portal.tsx';
import { SignIn } from './sign-in.tsx';

// Before sign-in: the one-time state leaves the address bar at once.
captureDerivedCredentialReturn();

/** Shows the sign-in page or the portal, following the auth state. */
export function App() {
  const [auth, setAuth] = useState<AuthState>(getAuthState);
  useEffect(() => {
    resumeSession();
    return onAuthChange(setAuth);
  }, []);
  useEffect(() => {
    // Signed in, the portal titles each page.
    if (!auth.signedIn) document.title = 'Sign in · Device Portal';
  }, [auth.signedIn]);
  return auth.signedIn ? <Portal /> : <SignIn notice={auth.notice} />;
}

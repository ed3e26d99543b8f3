import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, SPA_REWRITE_FUNCTION_CODE } from '../../infra/web-security.ts';

interface ViewerRequest {
  uri: string;
}
type ViewerRequestHandler = (event: { request: ViewerRequest }) => ViewerRequest;

// The CloudFront Function is plain ES5-style JS; evaluate the exact deployed source.
const handler = new Function(`${SPA_REWRITE_FUNCTION_CODE}; return handler;`)() as ViewerRequestHandler;
const rewrite = (uri: string): string => handler({ request: { uri } }).uri;

describe('SPA fallback function', () => {
  it.each(['/', '/go', '/devices', '/devices/abc-123', '/admin/settings/'])(
    'serves index.html for %s',
    (uri) => {
      expect(rewrite(uri)).toBe('/index.html');
    },
  );

  it.each(['/index.html', '/config.json', '/assets/index-3f9a.js', '/favicon.ico', '/assets/app.css.map'])(
    'leaves the file %s alone',
    (uri) => {
      expect(rewrite(uri)).toBe(uri);
    },
  );
});

describe('content security policy', () => {
  const csp = contentSecurityPolicy('https://cognito-idp.eu-west-1.amazonaws.com');

  it('allows only same-origin scripts and connections, plus the Cognito endpoint', () => {
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com");
  });

  it('forbids framing and plugins', () => {
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
  });
});

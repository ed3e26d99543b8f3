import type { Access, Route, RouteThrottle } from '../functions/routes.ts';

/** The stage's default route settings: the limit of each route that has none of its own. */
export const STAGE_THROTTLE: RouteThrottle = { rateLimit: 50, burstLimit: 100 };

/**
 * Per-route limits by access kind. Public routes (the /go page, the profile download) and agent
 * routes take no Cognito token, so anyone can call them: they get limits far below the stage
 * default, sized for people typing PINs and agents checking in, so a flood is refused by API
 * Gateway before it costs Lambda invocations and table reads. User and admin routes keep the stage
 * default unless the route sets `throttle`.
 */
export const ROUTE_THROTTLE_BY_ACCESS: Partial<Record<Access, RouteThrottle>> = {
  public: { rateLimit: 5, burstLimit: 10 },
  agent: { rateLimit: 20, burstLimit: 40 },
};

/** The route's own throttle, else its access kind's, else none (the stage limit applies). */
export function routeThrottle(route: Route): RouteThrottle | undefined {
  return route.throttle ?? ROUTE_THROTTLE_BY_ACCESS[route.access];
}

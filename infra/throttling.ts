import type { Access, Route, RouteThrottle } from '../functions/routes.ts';

/** The whole stage: every route not listed below shares it. */
export const STAGE_THROTTLE: RouteThrottle = { rateLimit: 50, burstLimit: 100 };

/**
 * Per-route limits by access kind. Public routes (the /go page, the profile download) and agent
 * routes take no Cognito token, so each gets its own, lower budget: a flood on them cannot eat the
 * signed-in users' share of the stage limit. User and admin routes use the stage limit unless the
 * route sets `throttle`.
 */
export const ROUTE_THROTTLE_BY_ACCESS: Partial<Record<Access, RouteThrottle>> = {
  public: { rateLimit: 5, burstLimit: 10 },
  agent: { rateLimit: 20, burstLimit: 40 },
};

/** The route's own throttle, else its access kind's, else none (the stage limit applies). */
export function routeThrottle(route: Route): RouteThrottle | undefined {
  return route.throttle ?? ROUTE_THROTTLE_BY_ACCESS[route.access];
}

/**
 * Every entry of the route table has its handler file (named after the route), and that file's
 * handler is bound to that very entry: infra, the local twin and the code cannot drift apart.
 */
import { describe, expect, it } from 'vitest';
import { handlerFile, type Route, routes } from '../../functions/routes.ts';

describe('the route table and the handlers', () => {
  it.each(routes.map((route): [string, Route] => [route.name, route]))(
    '%s: its handler file exports a handler bound to this very entry',
    async (_name, route) => {
      const module = (await import(`../../${handlerFile(route)}`)) as { handler?: { route?: Route } };

      expect(module.handler).toBeTypeOf('function');
      expect(module.handler?.route).toBe(route);
    },
  );

  it('names each route once, so no two entries share a handler file', () => {
    const files = routes.map((route) => handlerFile(route));

    expect(new Set(files).size).toBe(routes.length);
  });
});

/** `@Public()`: the one way to exempt a route from the global access-token guard. */
import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'parley:public';

export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Marks every controller of a module as public (e.g. the health/metrics probes, which carry no owner token). */
export function markControllersPublic(module: { controllers?: unknown[] }): void {
  for (const controller of module.controllers ?? [])
    Reflect.defineMetadata(IS_PUBLIC, true, controller as object);
}

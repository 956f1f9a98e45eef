/**
 * freePort returns a loopback port that nothing listens on, reserved for this process: no other caller of
 * freePort on the machine gets it for the next few minutes, and it lies below the kernel's ephemeral range,
 * so no outgoing connection takes it either before the server that will use it binds it.
 */
export function freePort(): Promise<number>;

/** releasePort gives a reserved port back early (optional: reservations expire on their own). */
export function releasePort(port: number): void;

/** portRange is the range freePort picks from: [low, high], both inclusive. */
export function portRange(): { low: number; high: number };

/** tryReserve reserves one given port if no live reservation holds it (for tests; use freePort). */
export function tryReserve(port: number): boolean;

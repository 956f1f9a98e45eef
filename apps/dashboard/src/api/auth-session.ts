import type { Interceptor } from "@connectrpc/connect";

/** TOKEN_STORAGE_KEY is where the session keeps its token (per tab: sessionStorage). */
export const TOKEN_STORAGE_KEY = "etcd-ts-dashboard-token";

/**
 * AuthSession holds the auth token of the signed-in user when the cluster has auth enabled. Its
 * {@link interceptor} sends the token as the `token` header of every call, as etcd clients send it in
 * gRPC metadata; the JSON gateway (used for watches) takes it as `Authorization`.
 */
export class AuthSession {
  #token: string | undefined;
  #user: string | undefined;
  readonly #listeners = new Set<() => void>();

  constructor(private readonly storage: Pick<Storage, "getItem" | "setItem" | "removeItem"> | undefined) {
    const saved = storage?.getItem(TOKEN_STORAGE_KEY);
    if (saved !== null && saved !== undefined) {
      const [user, token] = JSON.parse(saved) as [string, string];
      this.#user = user;
      this.#token = token;
    }
  }

  /** token is the current auth token, if signed in. */
  get token(): string | undefined {
    return this.#token;
  }

  /** user is the signed-in user name, if any. */
  get user(): string | undefined {
    return this.#user;
  }

  /** signIn stores the token Auth.Authenticate returned for `user`. */
  signIn(user: string, token: string): void {
    this.#user = user;
    this.#token = token;
    this.storage?.setItem(TOKEN_STORAGE_KEY, JSON.stringify([user, token]));
    this.#changed();
  }

  /** signOut forgets the token. */
  signOut(): void {
    this.#user = undefined;
    this.#token = undefined;
    this.storage?.removeItem(TOKEN_STORAGE_KEY);
    this.#changed();
  }

  /** onChange calls `listener` after every sign-in or sign-out. */
  onChange(listener: () => void): void {
    this.#listeners.add(listener);
  }

  /** interceptor adds the token to every outgoing call. */
  readonly interceptor: Interceptor = (next) => async (req) => {
    if (this.#token !== undefined) req.header.set("token", this.#token);
    return next(req);
  };

  #changed(): void {
    for (const l of this.#listeners) l();
  }
}

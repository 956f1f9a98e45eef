import type { EtcdApi } from "../api/etcd-api.js";
import { h, replaceChildren } from "./element.js";

/**
 * SignIn is the header widget for clusters with auth enabled: a user name and password form that calls
 * Auth.Authenticate and keeps the token in the {@link AuthSession}, or the signed-in user and "Sign out".
 * Without auth, nothing needs it: every call works anonymously.
 */
export class SignIn {
  readonly element = h("div", { class: "sign-in" });

  constructor(private readonly api: EtcdApi) {
    api.session?.onChange(() => this.#render(""));
    this.#render("");
  }

  #render(message: string): void {
    const session = this.api.session;
    if (session === undefined) return;
    if (session.user !== undefined) {
      replaceChildren(
        this.element,
        h("span", {}, `signed in as ${session.user} `),
        h("button", { type: "button", class: "link light", onclick: () => session.signOut() }, "Sign out"),
      );
      return;
    }
    const user = h("input", {
      type: "text",
      name: "user",
      placeholder: "user",
      size: 10,
      autocomplete: "username",
    });
    const password = h("input", {
      type: "password",
      name: "password",
      placeholder: "password",
      size: 10,
      autocomplete: "current-password",
    });
    const form = h(
      "form",
      {
        hidden: message === "",
        onsubmit: (ev) => {
          ev.preventDefault();
          void this.#signIn(user.value, password.value);
        },
      },
      user,
      password,
      h("button", { type: "submit" }, "Sign in"),
    );
    replaceChildren(
      this.element,
      h("span", { class: "muted-light" }, message === "" ? "anonymous " : `${message} `),
      message === ""
        ? h(
            "button",
            {
              type: "button",
              class: "link light",
              onclick: (ev) => {
                form.hidden = false;
                (ev.currentTarget as HTMLElement).hidden = true;
                user.focus();
              },
            },
            "Sign in (auth)",
          )
        : null,
      form,
    );
  }

  async #signIn(user: string, password: string): Promise<void> {
    try {
      const res = await this.api.auth.authenticate({ name: user, password });
      this.api.session?.signIn(user, res.token);
    } catch (err) {
      this.#render((err as Error).message);
    }
  }
}

import { AuthSession } from "./api/auth-session.js";
import { createEtcdApi } from "./api/etcd-api.js";
import { ClusterView } from "./cluster/cluster-view.js";
import { KeyBrowser } from "./keys/key-browser.js";
import { PlaygroundView } from "./playground/playground-view.js";
import { Router } from "./shell/router.js";
import { SignIn } from "./shell/sign-in.js";
import "./style.css";

// The page talks to the member that served it: same origin, so no CORS is involved.
const session = new AuthSession(sessionStorage);
const api = createEtcdApi(location.origin, session);
const nav = document.getElementById("nav");
const outlet = document.getElementById("outlet");
const account = document.getElementById("account");
if (nav === null || outlet === null || account === null)
  throw new Error("index.html lacks #nav, #outlet or #account");
account.appendChild(new SignIn(api).element);

const router = new Router(
  [
    { path: "/cluster", label: "Cluster", view: new ClusterView(api, (url) => createEtcdApi(url, session)) },
    { path: "/keys", label: "Keys", view: new KeyBrowser(api) },
    { path: "/playground", label: "Raft playground", view: new PlaygroundView() },
  ],
  nav,
  outlet,
);
// Views reload with the new token; the playground needs no token and keeps its run.
session.onChange(() => {
  if (!location.hash.startsWith("#/playground")) router.refresh();
});
router.start();

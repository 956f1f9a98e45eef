import { createEtcdApi } from "./api/etcd-api.js";
import { ClusterView } from "./cluster/cluster-view.js";
import { KeyBrowser } from "./keys/key-browser.js";
import { PlaygroundView } from "./playground/playground-view.js";
import { Router } from "./shell/router.js";
import "./style.css";

// The page talks to the member that served it: same origin, so no CORS is involved.
const api = createEtcdApi(location.origin);
const nav = document.getElementById("nav");
const outlet = document.getElementById("outlet");
if (nav === null || outlet === null) throw new Error("index.html lacks #nav or #outlet");

new Router(
  [
    { path: "/cluster", label: "Cluster", view: new ClusterView(api, (url) => createEtcdApi(url)) },
    { path: "/keys", label: "Keys", view: new KeyBrowser(api) },
    { path: "/playground", label: "Raft playground", view: new PlaygroundView() },
  ],
  nav,
  outlet,
).start();

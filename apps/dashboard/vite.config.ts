import { defineConfig } from "vite";

// The bundle is served by etcd-ts at /ui/ on the client port (apps/dashboard/dist, index.html at /ui/).
export default defineConfig({
  base: "/ui/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 1024,
  },
  server: {
    // `pnpm dev` against a local member: proxy the RPC paths to it (ETCD_TS_ENDPOINT, default :2379).
    proxy: Object.fromEntries(
      ["/etcdserverpb.", "/v3/", "/v3electionpb.", "/v3lockpb."].map((prefix) => [
        prefix,
        { target: process.env.ETCD_TS_ENDPOINT ?? "http://127.0.0.1:2379", changeOrigin: true },
      ]),
    ),
  },
});

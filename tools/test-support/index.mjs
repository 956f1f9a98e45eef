export { freePort, portRange, releasePort, tryReserve } from "./ports.mjs";
export { removeTempDirs, tempDir } from "./temp-dirs.mjs";

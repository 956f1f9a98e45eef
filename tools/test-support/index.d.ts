export { freePort, portRange, releasePort, tryReserve } from "./ports.js";
export { removeTempDirs, tempDir } from "./temp-dirs.js";

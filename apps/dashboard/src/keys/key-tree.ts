/** KeyTreeEntry is one row of the key browser at a prefix: a "folder" (more keys below) or a key. */
export type KeyTreeEntry =
  | { kind: "folder"; name: string; prefix: string; count: number }
  | { kind: "key"; name: string; key: string };

/**
 * keyTree groups the keys under `prefix` the way a file browser shows a directory: the part of each key
 * after the prefix is cut at its first `separator`; keys with the same first segment become one folder
 * (with the number of keys below it), keys with no separator left are shown as keys. A key that equals a
 * folder's path plus the separator (e.g. "/a/" next to "/a/b") shows up both as a key and as a folder.
 * Folders come first, each group in byte order of the keys.
 */
export function keyTree(keys: readonly string[], prefix: string, separator = "/"): KeyTreeEntry[] {
  const folders = new Map<string, { name: string; prefix: string; count: number }>();
  const leaves: KeyTreeEntry[] = [];
  for (const key of keys) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    const cut = rest.indexOf(separator);
    if (cut < 0 || cut + separator.length === rest.length) {
      leaves.push({ kind: "key", name: rest === "" ? "(this prefix)" : rest, key });
      continue;
    }
    const name = rest.slice(0, cut + separator.length);
    const folder = folders.get(name);
    if (folder === undefined) folders.set(name, { name, prefix: prefix + name, count: 1 });
    else folder.count++;
  }
  return [...[...folders.values()].map((f) => ({ kind: "folder" as const, ...f })), ...leaves];
}

/** parentPrefix is the folder above `prefix` ("/a/b/" -> "/a/", "/a/" -> "/", "/" -> ""). */
export function parentPrefix(prefix: string, separator = "/"): string {
  const trimmed = prefix.endsWith(separator) ? prefix.slice(0, -separator.length) : prefix;
  const cut = trimmed.lastIndexOf(separator);
  return cut < 0 ? "" : trimmed.slice(0, cut + separator.length);
}

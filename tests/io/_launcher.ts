/** A launcher like `deno task`: start `_watched.ts` with the permission flags given, and wait for it. */
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    ...Deno.args,
    new URL("./_watched.ts", import.meta.url).pathname,
  ],
  stdout: "inherit",
  stderr: "inherit",
}).spawn();
await child.status;

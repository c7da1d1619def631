/** Child process for lock tests: lock `Deno.args[0]`, say "locked", wait to be killed. */
import { RunLock } from "../../src/io/lock.ts";

RunLock.acquire(Deno.args[0]!, "holder");
console.log("locked");
await new Promise(() => setInterval(() => {}, 1000));

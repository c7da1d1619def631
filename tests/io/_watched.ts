/** Child for parent_watch tests: watch the launcher chain, print our pid, then idle. */
import { exitWithLauncher } from "../../src/io/parent_watch.ts";

exitWithLauncher(() => "progress is saved");
console.log(Deno.pid);
setInterval(() => {}, 1000); // stay alive until stopped

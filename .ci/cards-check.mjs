// Validates the V2 cards rostro wrote with character-card-utils (npm), the zod schemas of the
// Character Card V2 spec by its author: `v2` (the spec) and `backfilledV2` (V2 with the V1
// fields mirrored at the top level, for pre-V2 readers).
// usage: node cards-check.mjs NODE_MODULES_DIR CARD.json...
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const [modules, ...files] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(modules), "noop.js"));
const ccu = require("character-card-utils");
let failed = 0;
for (const f of files) {
  const card = JSON.parse(fs.readFileSync(f, "utf8"));
  for (const [name, schema] of [["v2", ccu.v2], ["backfilledV2", ccu.backfilledV2]]) {
    const r = schema.safeParse(card);
    if (!r.success) {
      failed++;
      console.log(`${f}: not a valid ${name} card: ${JSON.stringify(r.error.issues)}`);
    }
  }
  // The converter accepts it too, and keeps the lorebook.
  const v2 = ccu.parseToV2(card);
  if ((v2.data.character_book?.entries ?? []).length !== (card.data.character_book?.entries ?? []).length) {
    failed++;
    console.log(`${f}: parseToV2 changed the lorebook`);
  }
}
if (failed) process.exit(1);
console.log(`cards-check.mjs: ${files.length} V2 card(s) valid for character-card-utils (v2, backfilledV2)`);

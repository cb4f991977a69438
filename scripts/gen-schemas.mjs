import { writeFileSync } from "node:fs";
import { customerSchema, globalSchema } from "./schema-src.mjs";

const out = (s) => JSON.stringify(s, null, 2) + "\n";
writeFileSync(new URL("../schemas/customer.schema.json", import.meta.url), out(customerSchema));
writeFileSync(new URL("../schemas/global.schema.json", import.meta.url), out(globalSchema));

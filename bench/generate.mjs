// Writes N realistic customer files (and the repository's _global.yaml) into a folder.
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ZONES = ["Europe/Rome", "America/New_York", "Europe/London", "Asia/Tokyo", "Australia/Sydney", "UTC", "America/Chicago", "Europe/Berlin"];
const PRODUCTS = ["wfbs-svc", "wfbs-adv", "cas", "hes", "cloud-edge", "iwsaas"];

export function customerYaml(i) {
  const name = `c-${String(i).padStart(5, "0")}`;
  const products = PRODUCTS.filter((_, k) => (i >> k) % 2 === 0 || k === 0);
  const edition = i % 2 ? "advanced" : "standard";
  const agreements = products
    .map((p, k) => (k % 2 ? `  ${p}:\n    type: Managed Service\n    name: ${name} - ${p}` : `  ${p}: default`))
    .join("\n");
  const custom = i % 3 !== 0;
  const schedule = i % 10 === 7 ? `    schedule: "0 ${i % 24} * * 1-5"` : `    every: ${["day", "week", "month"][i % 3]}`;
  const notifications = custom
    ? `notifications:
  timezone: ${ZONES[i % ZONES.length]}
  at: "${String(i % 24).padStart(2, "0")}:${i % 2 ? "30" : "00"}"
  billing:
    products: [${products.join(", ")}]
    dayOfMonth: ${(i % 31) + 1}
  hostedEmailSecurity:
${schedule}
    detections: [spam, phishing, malware]
  emailSecurity:
    edition: ${edition}
    every: week
    detections: [ransomware, phishing, bec]`
    : "notifications: global";
  return `# yaml-language-server: $schema=../schemas/customer.schema.json
apiVersion: cwsync/v1
kind: Customer
name: ${name}
displayName: Customer ${i}
owner: team-${i % 7}
trendMicro:
  customer: Customer ${i} Ltd
  emailDomains: [${name}.example, mail.${name}.example]
connectwise:
  enabled: true
  companyId: "C${String(i).padStart(6, "0")}"
agreements:
${agreements}
  tmems-${edition}: default
${notifications}
`;
}

export function generateCustomers(dir, count, globalFrom) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  copyFileSync(globalFrom, join(dir, "_global.yaml"));
  for (let i = 0; i < count; i++) writeFileSync(join(dir, `c-${String(i).padStart(5, "0")}.yaml`), customerYaml(i));
}

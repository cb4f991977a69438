// Source of schemas/*.json: shared definitions written once, emitted as two self-contained
// draft-07 files (editors resolve them without network or cross-file $refs).
// Run `npm run gen:schemas` after editing; a test fails when the committed files differ.

const CATEGORIES = [
  "spam", "graymail", "web-reputation", "bec", "phishing", "malware", "ransomware",
  "suspicious-objects", "advanced-threats", "scan-exceptions", "spoofing", "content-filter", "dlp",
];

const p = (title, description, examples, extra) => ({ title, description, examples, ...extra });

/** No control characters: what an agreement type or name may hold (they never go into a query condition). */
const PRINTABLE = "^[^\\u0000-\\u001f\\u007f]+$";

const productKey = {
  type: "string",
  pattern: "^[a-z0-9][a-z0-9-]{0,62}$",
};

const schedule = p(
  "Custom schedule",
  "A cron expression (5 or 6 fields) evaluated with cron-parser in the customer's `timezone`, used instead of `dayOfMonth`/`every`. It must fire at most once an hour.",
  ["0 8 * * 1-5", "0 7 1,15 * *"],
  { type: "string", minLength: 1, maxLength: 200 },
);

const detections = p(
  "Detection categories",
  "Which detection categories the report counts, from cwsync's one vocabulary for both email products.",
  [["spam", "phishing", "malware"], ["ransomware", "phishing", "bec"]],
  { type: "array", minItems: 1, uniqueItems: true, items: { type: "string", enum: CATEGORIES } },
);

const every = p(
  "Frequency",
  "`day`: yesterday, sent today at `at`; `week`: the last ISO week (Monday–Sunday), sent on Monday; `month`: last month, sent on the 1st.",
  ["week"],
  { type: "string", enum: ["day", "week", "month"] },
);

function billing(global) {
  return p(
    "Billing",
    "Push billing quantities to ConnectWise agreement additions every month on `dayOfMonth` (or on a custom `schedule`) at `at`, then post a summary ticket. Absent: no billing.",
    [global ? { products: "all", dayOfMonth: 1 } : { products: ["wfbs-svc", "tmems-advanced"], dayOfMonth: 31 }],
    {
      type: "object",
      additionalProperties: false,
      required: ["products"],
      properties: {
        products: p(
          "Billed products",
          global
            ? "Product keys from the `products` catalogue whose seats are billed, or `all` for every product the customer maps in `agreements`."
            : "Product keys from the global `products` catalogue whose seats are billed; each needs a mapping in `agreements`.",
          global ? ["all", ["wfbs-svc", "cas"]] : [["wfbs-svc", "tmems-advanced"]],
          global
            ? { anyOf: [{ type: "string", const: "all" }, { type: "array", minItems: 1, uniqueItems: true, items: productKey }] }
            : { type: "array", minItems: 1, uniqueItems: true, items: productKey },
        ),
        dayOfMonth: p(
          "Day of month",
          "Day of the month (1–31) when billing quantities are sent; 29, 30 and 31 fall back to the last day of shorter months.",
          [1, 31],
          { type: "integer", minimum: 1, maximum: 31 },
        ),
        schedule,
        seatsFrom: p(
          "Seats from",
          "Which month's Licensing Management Platform summary report the seats are read from: `current-month` (the month of the billing day; the default) or `previous-month` (the last complete month). Billing on days 1–3 from `current-month` is warned about: that month's report has barely begun.",
          ["previous-month", "current-month"],
          { type: "string", enum: ["current-month", "previous-month"] },
        ),
      },
    },
  );
}

function emailReport(name, withEdition) {
  return p(
    name === "hes" ? "Hosted Email Security report" : "Trend Micro Email Security report",
    name === "hes"
      ? "Hosted Email Security detection summary, one ticket per period. Absent: not sent."
      : "Trend Micro Email Security (Standard or Advanced) detection summary, one ticket per period. Absent: not sent.",
    [withEdition
      ? { edition: "advanced", every: "day", detections: ["ransomware", "phishing", "bec"] }
      : { every: "week", detections: ["spam", "phishing", "malware"] }],
    {
      type: "object",
      additionalProperties: false,
      required: withEdition ? ["edition", "detections"] : ["detections"],
      properties: {
        ...(withEdition
          ? {
              edition: p(
                "Edition",
                "Trend Micro Email Security edition; must agree with the mapped `tmems-*` product.",
                ["advanced"],
                { type: "string", enum: ["standard", "advanced"] },
              ),
            }
          : {}),
        every,
        schedule,
        detections,
      },
    },
  );
}

function notificationsBlock(global) {
  return {
    type: "object",
    additionalProperties: false,
    required: ["timezone", "at"],
    properties: {
      timezone: p(
        "Time zone",
        "IANA time zone for every schedule of this " + (global ? "setting" : "customer") + ".",
        ["Europe/Rome", "America/New_York", "UTC"],
        { type: "string", minLength: 1, maxLength: 64 },
      ),
      at: p(
        "Time of day",
        "Local time of day (HH:MM, 24-hour) when due reports go out. Quote it.",
        ["07:00", "18:30"],
        { type: "string", pattern: "^([01][0-9]|2[0-3]):[0-5][0-9]$" },
      ),
      billing: billing(global),
      hostedEmailSecurity: emailReport("hes", false),
      emailSecurity: emailReport("tmems", true),
    },
  };
}

const apiVersion = p("API version", "Version of the file format.", ["cwsync/v1"], { type: "string", const: "cwsync/v1" });

export const customerSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "https://cwsync.dev/schemas/customer.schema.json",
  title: "cwsync customer",
  description: "One customer's Trend Micro ↔ ConnectWise Manage integration: company, agreement mappings and notification settings.",
  type: "object",
  additionalProperties: false,
  required: ["apiVersion", "kind", "name", "trendMicro", "connectwise", "notifications"],
  properties: {
    apiVersion,
    kind: p("Kind", "Always `Customer` in a customer file.", ["Customer"], { type: "string", const: "Customer" }),
    name: p(
      "Name",
      "The customer's cwsync name; equals the file name without `.yaml`. Lowercase letters, digits and `-`, 1–63 characters, unique.",
      ["acme-corp"],
      { type: "string", pattern: "^[a-z0-9-]{1,63}$" },
    ),
    displayName: p("Display name", "Human-readable name shown in the dashboard and in tickets.", ["Acme Corporation"], {
      type: "string", minLength: 1, maxLength: 200,
    }),
    owner: p("Owner", "Team or person responsible; used as a dashboard filter and for alert routing.", ["team-emea"], {
      type: "string", minLength: 1, maxLength: 100,
    }),
    suspend: p(
      "Suspend",
      "While present, nothing is sent for this customer (the file is still validated). A period that falls due while suspended is not sent later.",
      [{ reason: "contract renegotiation", until: "2027-01-15" }],
      {
        type: "object",
        additionalProperties: false,
        required: ["reason"],
        properties: {
          reason: p("Reason", "Why the customer is suspended; shown in `status` and the dashboard.", ["contract renegotiation"], {
            type: "string", minLength: 1, maxLength: 500,
          }),
          until: p(
            "Until",
            "Optional date (YYYY-MM-DD): suspended through that whole day in the customer's time zone, then resumes by itself.",
            ["2027-01-15"],
            { type: "string", pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" },
          ),
        },
      },
    ),
    trendMicro: p(
      "Trend Micro",
      "How the customer is known on the Trend Micro side.",
      [{ customer: "Acme Corporation", emailDomains: ["acme.example"] }],
      {
        type: "object",
        additionalProperties: false,
        required: ["customer"],
        properties: {
          customer: p(
            "LMP customer name",
            "The customer's name in Trend Micro's Licensing Management Platform; billing rows are matched on it.",
            ["Acme Corporation"],
            { type: "string", minLength: 1, maxLength: 200 },
          ),
          emailDomains: p(
            "Email domains",
            "Domains whose email-security detections are reported; required by the email reports.",
            [["acme.example", "mail.acme.example"]],
            {
              type: "array",
              uniqueItems: true,
              items: { type: "string", pattern: "^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$" },
            },
          ),
        },
      },
    ),
    connectwise: p(
      "ConnectWise Manage",
      "The seed's “Enable integration” and “ConnectWise company ID + Verify”.",
      [{ enabled: true, companyId: "AcmeCorp" }],
      {
        type: "object",
        additionalProperties: false,
        required: ["enabled"],
        properties: {
          enabled: p("Enabled", "Enable the integration: verify the company, bill and send reports.", [true], { type: "boolean" }),
          companyId: p(
            "Company ID",
            "The ConnectWise company identifier (“Company ID”), 1–156 characters without `\" ' \\ [ ]`. Quote numeric IDs.",
            ["AcmeCorp", "0123"],
            { type: "string", minLength: 1, maxLength: 156, pattern: "^[^\"'\\\\\\[\\]]+$" },
          ),
        },
        if: { properties: { enabled: { const: true } }, required: ["enabled"] },
        then: { required: ["companyId"] },
      },
    ),
    agreements: p(
      "Agreements",
      "Trend Micro product (a key of the global `products` catalogue) → ConnectWise agreement: `default`, or the agreement's type and name.",
      [{ "wfbs-svc": "default", "tmems-advanced": { type: "Managed Services", name: "Acme - Email Protection" } }],
      {
        type: "object",
        propertyNames: productKey,
        additionalProperties: {
          anyOf: [
            p("Default agreement", "The company's one active agreement of a default type (global `defaultAgreementTypes`).", ["default"], {
              type: "string", const: "default",
            }),
            p("Agreement", "An agreement by type and name.", [{ type: "Managed Services", name: "Acme - Email Protection" }], {
              type: "object",
              additionalProperties: false,
              required: ["type", "name"],
              properties: {
                type: p("Agreement type", "The ConnectWise agreement type name, as ConnectWise spells it (any printable characters, apostrophes included: it is matched by cwsync, never sent in a query).", ["Managed Services"], {
                  type: "string", minLength: 1, maxLength: 100, pattern: PRINTABLE,
                }),
                name: p("Agreement name", "The ConnectWise agreement name, as ConnectWise spells it (any printable characters, apostrophes included: it is matched by cwsync, never sent in a query).", ["Acme - Email Protection", "O'Brien Dental - Managed Services"], {
                  type: "string", minLength: 1, maxLength: 100, pattern: PRINTABLE,
                }),
              },
            }),
          ],
        },
      },
    ),
    notifications: p(
      "Notifications",
      "`global` to use `customers/_global.yaml`'s settings, or a complete custom block (nothing is inherited; an absent report is not sent).",
      ["global", { timezone: "Europe/Rome", at: "07:00", billing: { products: ["wfbs-svc"], dayOfMonth: 31 } }],
      { anyOf: [{ type: "string", const: "global" }, notificationsBlock(false)] },
    ),
  },
};

export const globalSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "https://cwsync.dev/schemas/global.schema.json",
  title: "cwsync global settings",
  description: "Settings shared by every customer: ConnectWise defaults, the Trend Micro product catalogue and the global notification settings.",
  type: "object",
  additionalProperties: false,
  required: ["apiVersion", "kind", "connectwise", "products", "notifications"],
  properties: {
    apiVersion,
    kind: p("Kind", "Always `Global` in `customers/_global.yaml`.", ["Global"], { type: "string", const: "Global" }),
    connectwise: p(
      "ConnectWise Manage",
      "How cwsync uses ConnectWise: default agreement types, where tickets land, what happens to seat decreases.",
      [{ defaultAgreementTypes: ["TMRM Management Solution", "Managed Service"], tickets: { board: "Managed Services", status: "New" }, decreases: "apply" }],
      {
        type: "object",
        additionalProperties: false,
        required: ["defaultAgreementTypes", "tickets"],
        properties: {
          defaultAgreementTypes: p(
            "Default agreement types",
            "Agreement types that an `agreements: { <product>: default }` mapping resolves through (the seed's “Default”).",
            [["TMRM Management Solution", "Managed Service"]],
            { type: "array", minItems: 1, uniqueItems: true, items: { type: "string", minLength: 1, maxLength: 100, pattern: PRINTABLE } },
          ),
          tickets: p("Tickets", "Where billing summaries and detection reports land.", [{ board: "Managed Services", status: "New" }], {
            type: "object",
            additionalProperties: false,
            required: ["board"],
            properties: {
              board: p("Service board", "ConnectWise service board name for report tickets.", ["Managed Services"], {
                type: "string", minLength: 1, maxLength: 100, pattern: "^[^\"'\\\\\\[\\]]+$",
              }),
              status: p("Status", "Status name new tickets get on that board (the board's default when absent).", ["New"], {
                type: "string", minLength: 1, maxLength: 100, pattern: "^[^\"'\\\\\\[\\]]+$",
              }),
            },
          }),
          decreases: p(
            "Seat decreases",
            "`apply`: a lower seat count is billed like any other; `hold`: a decrease is recorded and shown, and waits for a human.",
            ["apply", "hold"],
            { type: "string", enum: ["apply", "hold"] },
          ),
        },
      },
    ),
    products: p(
      "Product catalogue",
      "The Trend Micro products customer files refer to, by key.",
      [{ "wfbs-svc": { displayName: "Worry-Free Business Security Services", lmp: { productName: "Worry-Free Business Security Services" }, catalogItem: "TM-WFBSS", quantity: "used" } }],
      {
        type: "object",
        minProperties: 1,
        propertyNames: productKey,
        additionalProperties: p("Product", "One Trend Micro product and how it is billed.", [
          { displayName: "Cloud App Security", lmp: { productName: "Cloud App Security" }, catalogItem: "TM-CAS", quantity: "used" },
        ], {
          type: "object",
          additionalProperties: false,
          required: ["displayName", "lmp", "catalogItem", "quantity"],
          properties: {
            displayName: p("Display name", "The product's name in tickets and the dashboard.", ["Worry-Free Business Security Services"], {
              type: "string", minLength: 1, maxLength: 200,
            }),
            lmp: p("Licensing Management Platform", "How the product appears in LMP summary reports.", [{ productName: "Cloud App Security" }], {
              type: "object",
              additionalProperties: false,
              required: ["productName"],
              properties: {
                productName: p("LMP product name", "The product name in LMP report rows; billing rows are matched on it.", [
                  "Worry-Free Business Security Services",
                ], { type: "string", minLength: 1, maxLength: 200 }),
              },
            }),
            catalogItem: p(
              "Catalogue item",
              "ConnectWise product identifier of the agreement addition that carries this product's seats.",
              ["TM-WFBSS"],
              { type: "string", minLength: 1, maxLength: 60, pattern: "^[^\"'\\\\\\[\\]]+$" },
            ),
            quantity: p("Billed quantity", "Which LMP seat count is billed: `used` or `provisioned` seats.", ["used"], {
              type: "string", enum: ["used", "provisioned"],
            }),
          },
        }),
      },
    ),
    notifications: p(
      "Global notification settings",
      "The settings of every customer with `notifications: global`; same shape as a custom block, except `billing.products` may be `all`.",
      [{ timezone: "UTC", at: "06:00", billing: { products: "all", dayOfMonth: 1 } }],
      notificationsBlock(true),
    ),
    catchUp: p(
      "Catch-up",
      "How far back missed reports are still sent after downtime; older ones are recorded as missed. Billing months are never skipped.",
      [{ detections: "7d" }],
      {
        type: "object",
        additionalProperties: false,
        properties: {
          detections: p("Detection reports", "Catch-up window for detection reports: a number and `h` or `d` (default `7d`).", ["7d", "48h"], {
            type: "string", pattern: "^[1-9][0-9]{0,3}[hd]$",
          }),
        },
      },
    ),
  },
};

export const DETECTION_CATEGORIES = CATEGORIES;

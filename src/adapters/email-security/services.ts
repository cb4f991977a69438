import type { DetectionService } from "../../ports/detection-source.ts";

/** Where cwsync reads policy events; the same path on both services (tmrm.md §5.3–5.4). */
export const POLICY_EVENT_LOG_PATH = "/api/v1/log/policyeventlog";

export interface ServiceInfo {
  /** The product's name, as messages show it. */
  name: string;
  /** Prefix of the service's environment variables: `TMES_URL`, `HES_API_KEY`. */
  env: "TMES" | "HES";
  /** What `<PREFIX>_URL` looks like, for messages. */
  urlExample: string;
}

export const SERVICES: Readonly<Record<DetectionService, ServiceInfo>> = {
  tmes: { name: "Trend Micro Email Security", env: "TMES", urlExample: "e.g. https://api.tmes.trendmicro.com" },
  // no public HES host is documented (tmrm.md §5.4): the example names what to look for instead
  hes: { name: "Hosted Email Security", env: "HES", urlExample: "the API host of your Hosted Email Security account, e.g. https://hes-api.example.net" },
};

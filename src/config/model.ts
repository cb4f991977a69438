import type { CwsyncCustomer } from "./customer-file.generated.ts";
import type { CwsyncGlobalSettings, GlobalNotificationSettings } from "./global-file.generated.ts";

/** A customer file as the schema describes it (types generated from schemas/customer.schema.json). */
export type CustomerFile = CwsyncCustomer;
/** `customers/_global.yaml` as the schema describes it. */
export type GlobalFile = CwsyncGlobalSettings;
export type CustomNotifications = Exclude<CustomerFile["notifications"], "global">;
export type NotificationSettings = CustomNotifications | GlobalNotificationSettings;
export type AgreementMapping = NonNullable<CustomerFile["agreements"]>[string];

export const REPORTS = ["billing", "hostedEmailSecurity", "emailSecurity"] as const;
export type ReportKind = (typeof REPORTS)[number];

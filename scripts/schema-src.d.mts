export declare const customerSchema: Record<string, unknown>;
export declare const globalSchema: Record<string, unknown>;
export declare const DETECTION_CATEGORIES: string[];

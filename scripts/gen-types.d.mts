export declare function generateTypes(): Promise<Record<string, string>>;

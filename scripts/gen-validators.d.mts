export declare const AJV_OPTIONS: Record<string, unknown>;
export declare function generateValidators(): string;
export declare function generatePassValidators(): string;
export declare function verdictSchema(schema: unknown): unknown;

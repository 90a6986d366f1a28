/** Types of forward-geometry.mjs. */
export declare const TOKEN_BLOCK: number;
export declare function panelRowsFor(cols: number): number;

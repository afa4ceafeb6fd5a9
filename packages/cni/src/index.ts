// CNI plugin (filled in by issue 4).
export {};

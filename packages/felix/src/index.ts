// felix: the per-node dataplane agent (issue 5).
export {};

export const CONFD = 'confd';

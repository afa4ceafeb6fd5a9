// The small messages, for callers that import them together (session/peer.ts).
export { KEEPALIVE, encodeKeepalive, decodeKeepalive, type KeepaliveMessage } from './keepalive.js';
export { decodeNotification, encodeNotification, shutdownData, type NotificationMessage } from './notification.js';
export { decodeRouteRefresh, encodeRouteRefresh, RouteRefreshSubtype, type RouteRefreshMessage } from './route-refresh.js';

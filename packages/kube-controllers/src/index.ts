export * from './controllers.js';
export { enabledControllers } from './main.js';

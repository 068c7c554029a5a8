// Public surface of the missions module.
export { ChannelService, DEFAULT_SETTINGS, type Channel, type ChannelSettings } from './channels.ts';
export { MissionService, ESCROW_SLOTS, MISSION_STATES, TERMINAL, type Mission, type MissionRow, type MissionState, type Pledge, type Decision, type MissionHooks } from './service.ts';
export { missionRoutes } from './routes.ts';
export { LiveHub, type LiveType } from './live.ts';
export { liveRoutes } from './live-routes.ts';

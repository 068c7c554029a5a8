#!/usr/bin/env node
// Entry point of the `missionlink` command. The sources are TypeScript: they
// run from the bundle scripts/build-server.mjs makes (npm start builds it when
// needed) when it is up to date, and through tsx's loader otherwise, so the
// same files serve development, tests and images.
import { pathToFileURL } from 'node:url';
import { BUNDLE, bundleIsFresh } from './bundle.js';

if (process.env.MISSIONLINK_FROM_SOURCE !== '1' && bundleIsFresh()) {
  await import(pathToFileURL(BUNDLE).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}

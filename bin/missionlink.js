#!/usr/bin/env node
// Entry point of the `missionlink` command. The sources are TypeScript and run
// through tsx's loader, so the same files serve development, tests and images.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');

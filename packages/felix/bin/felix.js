#!/usr/bin/env node
// felix daemon: see packages/felix/README.md ("The daemon").
import { main } from '../dist/daemon/main.js';

await main();

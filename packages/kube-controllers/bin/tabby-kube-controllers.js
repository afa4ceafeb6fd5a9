#!/usr/bin/env node
// tabby-kube-controllers: see packages/kube-controllers/README.md.
import { main } from '../dist/main.js';

await main();

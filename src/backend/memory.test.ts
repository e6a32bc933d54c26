// The in-memory reference backend keeps the same contract as the real stores.
import { MemoryBackend } from './memory.js';
import { runBackendConformance } from '../../test/conformance/backend.js';

runBackendConformance('memory', async () => ({ backend: new MemoryBackend(), cleanup: async () => {} }));

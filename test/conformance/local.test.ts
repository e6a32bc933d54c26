// The local-directory backend against the conformance suite.
import { LocalBackend } from '../../src/backend/local/local.js';
import { removeDir, tempDir } from '../helpers/server.js';
import { runBackendConformance } from './backend.js';

runBackendConformance('local', async () => {
  const dir = await tempDir('rwm-local-');
  return { backend: new LocalBackend(`${dir}/repo`), cleanup: () => removeDir(dir) };
});

// POST /<repo>/?create=true creates a repository (and succeeds if it exists).
import { BackendError } from '../../backend/errors.js';
import { sendOk, type RequestContext } from '../context.js';

export async function createRepo(ctx: RequestContext): Promise<void> {
  if (ctx.query.get('create') !== 'true') throw new BackendError('INVALID', 'POST on a repository needs ?create=true');
  await ctx.backend.create({ signal: ctx.signal });
  sendOk(ctx.res);
}

export function deleteRepo(_ctx: RequestContext): Promise<void> {
  return Promise.reject(new BackendError('FORBIDDEN', 'deleting a repository is never allowed through the server'));
}

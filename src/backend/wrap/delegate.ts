// A Backend that forwards every call to another: the base that wrappers override parts of.
import type { Backend } from '../backend.js';

export function delegate(inner: Backend): Backend {
  return {
    capabilities: inner.capabilities,
    location: inner.location,
    create: (o) => inner.create(o),
    save: (h, b, o) => inner.save(h, b, o),
    stat: (h, o) => inner.stat(h, o),
    load: (h, o) => inner.load(h, o),
    list: (t, o) => inner.list(t, o),
    remove: (h, o) => inner.remove(h, o),
  };
}

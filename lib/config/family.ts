/** An address family, by its Junos name. Its own module: the lowest layer of the config types, importing nothing. */
export type Family = 'inet' | 'inet6';

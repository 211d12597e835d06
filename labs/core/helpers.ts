// The one vocabulary of lab checks, by topic. A lab imports from here; each module below owns one
// topic and stays small. Pure functions only: no DOM, no Node APIs (the agent, the app and tests
// all import them).
//   results        passed/failed, evidence kept across steps, quoting, bilingual lists
//   procs          processes and the namespaces they are in, program identity, descriptions
//   ns-types       namespace types as learners name them, comparing with the sandbox's own
//   kernel-objects UTS hostnames, mounts, user namespace ID maps, nested PID namespaces
//   net            interfaces, addresses, bridge/veth topology, `ip` output, probe results
//   shell          command lines as bash reads them; which output belongs to one command alone
//   transcript     finding commands, /proc/<PID>/ns listings, inodes an output shows
//   ns-tools       nsenter and lsns invocations
export * from './results';
export * from './procs';
export * from './ns-types';
export * from './kernel-objects';
export * from './net';
export * from './shell';
export * from './transcript';
export * from './ns-tools';

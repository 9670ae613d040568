// Package simcard plugs the simulated eUICC (esim/euicc) into the simulated
// modem (modem/sim). The two packages stay independent of each other: the
// modem declares the Card interface it consumes, and this adapter is the
// only place that knows both.
package simcard

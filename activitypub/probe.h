/*
 * probe.h — the doctor's probe: a POST the bridge signs with its own key,
 * as it signs deliveries, and sends to its own inbox through the public
 * base_url, to see whether the proxy in front keeps what signatures cover
 * (Host, Date, Digest, Content-Type).
 *
 * The probe is an activity of type "DoctorProbe" (no server acts on it),
 * whose actor is the bridge's own and whose id is that actor's id with a
 * "#doctor-probe-" fragment.  It carries the Host, Date and Content-Type
 * it was signed with, and a proof: an RSA signature with the actor's key
 * over those values, its id, its time and the inbox it goes to.  The
 * proof stands on its own, so the inbox knows the probe is the bridge's
 * even when the proxy broke the HTTP signature, and can say what arrived
 * changed.
 *
 * The inbox answers a probe whose proof holds and whose time is within
 * AP_PROBE_WINDOW_S of its clock with 200 and a report (ap_probe_report);
 * anything else that claims the bridge's own actor is refused (401) and
 * told nothing more.  Nothing of a probe is stored, not even a replay id.
 */
#ifndef BB_AP_PROBE_H
#define BB_AP_PROBE_H

#include "activity.h"
#include "err.h"
#include "httpsig.h"
#include "key.h"
#include "site.h"

#include <stdbool.h>
#include <time.h>

#define AP_PROBE_TYPE "DoctorProbe"
#define AP_PROBE_FRAGMENT "#doctor-probe-"
/* How far the probe's time may be from the inbox's clock. */
#define AP_PROBE_WINDOW_S HTTPSIG_EXPIRES_DEFAULT

/* A probe ready to send: POST body to url with these headers (Host, Date,
 * Digest and Signature from sig, Content-Type AP_CONTENT_TYPE). */
struct ap_probe {
	char *url; /* the actor's inbox */
	char *body;
	struct httpsig_signed sig;
};

/* Makes and signs (draft-cavage, as deliveries) a probe at time now. */
enum bb_rc ap_probe_make(const struct ap_site *site, const struct key *k, time_t now,
			 struct ap_probe *out, struct err *e) BB_MUST_CHECK;

void ap_probe_clear(struct ap_probe *p);

/* Whether a claims the bridge's own actor (then it is a probe or refused). */
bool ap_probe_claimed(const struct ap_site *site, const struct ap_activity *a);

/* Checks that a is the bridge's probe: its type, id, proof (with own, the
 * bridge's public key) and time.  BB_ERR_AUTH otherwise, with a message
 * that tells the sender nothing about the proof. */
enum bb_rc ap_probe_check(const struct ap_site *site, const struct pubkey *own,
			  const struct ap_activity *a, time_t now, struct err *e) BB_MUST_CHECK;

/* The report on a checked probe as received in m: each of Host, Date,
 * Digest and Content-Type unchanged or not (and what arrived), and the
 * HTTP signature verified or why not (sig_failure; NULL: verified).
 * JSON, a new string in *out:
 *   {"probe": ID, "signature": {"verified": B[, "reason": S]},
 *    "headers": {"host"|"date"|"digest"|"content-type":
 *                {"unchanged": B, "received": S|null}}}
 * Digest is unchanged when it is the SHA-256 of the body received. */
enum bb_rc ap_probe_report(const struct ap_activity *a, const struct httpsig_message *m,
			   const char *sig_failure, char **out, struct err *e) BB_MUST_CHECK;

#endif

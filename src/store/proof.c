/* proof.c: the proof subject's ops table (store_proof.h); the work is in
 * the files proof_int.h lists. */
#include "store/proof_int.h"

const struct store_proof_ops sql_proof_ops = {
    .chain_verify = proof_chain_verify,
    .chain_export = proof_chain_export,
    .history_list = proof_history_list,
    .finding_chain_at = proof_finding_chain_at,
    .forecast = proof_forecast,
};

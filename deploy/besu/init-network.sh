#!/bin/sh
# Makes the QBFT network's files once, into /network: genesis.json (extraData naming the 4 validators), one folder
# per validator with its node key, and static-nodes.json so the validators find each other without discovery.
# Keep /network's keys secret and backed up: a lost validator key is a lost validator.
set -eu
[ -f /network/genesis.json ] && { echo "network files exist; nothing to do"; exit 0; }
besu operator generate-blockchain-config --config-file=/config/qbftConfigFile.json --to=/tmp/qbft --private-key-file-name=key
cp /tmp/qbft/genesis.json /network/genesis.json
i=1
enodes=""
for dir in /tmp/qbft/keys/*; do
  mkdir -p "/network/validator$i"
  cp "$dir/key" "$dir/key.pub" "/network/validator$i/"
  pub=$(sed 's/^0x//' "$dir/key.pub")
  enodes="$enodes${enodes:+,}\"enode://$pub@validator$i:30303\""
  i=$((i + 1))
done
echo "[$enodes]" > /network/static-nodes.json
echo "network files written: $((i - 1)) validators"

# giant: a chain of 51 Phone identities (Phone:00 - Phone:50), fragments
# linking each to the next, plus a chain of exactly 50 (Cookie:00 - Cookie:49)
# and a small profile.  Records of the giant one are interleaved with others.
i=0
while [ $i -lt 50 ]; do
  n=$((i + 1))
  printf '{"identityMap":{"Phone":[{"id":"%02d"},{"id":"%02d"}]},"n":%d}\n' $i $n $i
  [ $n -lt 50 ] && printf '{"identityMap":{"Cookie":[{"id":"%02d"},{"id":"%02d"}]}}\n' $i $n
  [ $i = 20 ] && printf '{"identityMap":{"ECID":[{"id":"small"}]}}\n'
  i=$n
done

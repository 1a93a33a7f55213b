# A submission that reaches outside its namespace: RBAC refuses both, and
# this step scores 0 (no pod of web was replaced).
kubectl delete pods --all -n kube-system --wait=false || true
kubectl delete namespace "$LAB_NAMESPACE" --wait=false

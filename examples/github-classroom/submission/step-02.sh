# Step 2: delete one pod of web; its ReplicaSet replaces it.
kubectl rollout status deployment/web --timeout=120s
pod=$(kubectl get pods -l app=web -o jsonpath='{.items[0].metadata.name}')
kubectl delete pod "$pod"

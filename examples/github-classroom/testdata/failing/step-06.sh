# Step 6: a liveness probe on /healthz, then make the app report unhealthy.
kubectl apply -f probe.yaml
kubectl rollout status deployment/probe --timeout=120s
kubectl exec deploy/probe -- curl -s -X PUT localhost:8080/down

"""The services around the job: the incident store, the read API and web app, delivery, lag."""

// Baseline of the synth benchmark: a CDK app with one empty stack (CLI, tsx and aws-cdk-lib start-up only).
import { App, Stack } from 'aws-cdk-lib';

const app = new App();
new Stack(app, 'Empty');
app.synth();
